# Alembic settings for `erlen db` (the database URL comes from the app, not from this file).

[alembic]
script_location = ${script_location}

# revision file names; the default is %%(rev)s_%%(slug)s
# file_template = %%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s

# set to 'true' to run env.py also for `erlen db revision` without --autogenerate
# revision_environment = false

# Logging: `erlen db` shows Alembic's INFO lines on stderr. To configure logging yourself,
# set up the "alembic" logger in the app (logging.config.dictConfig) before the command runs.
