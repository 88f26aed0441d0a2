from pyrun.cli import launch

launch()
