from nudges_kit.migration_support.env import run

run()
