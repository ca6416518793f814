from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

# A job's file-level notices (SHEET_CHOSEN, REPORT_COLUMNS_IGNORED): told to the user, not
# row errors, so they leave import_job_error and errorCount.


class Migration(migrations.Migration):
    dependencies = [('models', '0009_field_settings_version')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ImportJob',
            name='notices',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
