# /// script
# requires-python = ">=3.11"
# dependencies = ["iniconfig<3", "rich[jupyter]>=13 ; sys_platform != 'win32'"]
# ///
print("hi")
