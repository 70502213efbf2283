from dagster import DynamicPartitionsDefinition

# One partition per extract day (UTC date in the file name). Dynamic, because a centre's
# history starts whenever its first extract does (the Anonymous Bank month is 1999); the
# load step registers the days it finds in the landing folder.
extract_days = DynamicPartitionsDefinition(name="extract_day")
