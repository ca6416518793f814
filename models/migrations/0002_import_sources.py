from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ImportSource',
            fields=[
                ('job', fields.OneToOneField('models.ImportJob', source_field='job_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='source', on_delete=OnDelete.CASCADE)),
                ('file_name', fields.CharField(max_length=255)),
                ('content', fields.BinaryField()),
            ],
            options={'table': 'import_source', 'app': 'models', 'pk_attr': 'job_id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ImportJob',
            name='actor_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='actor_kind',
            field=fields.CharField(default='MEMBER', max_length=16),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='columns',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='failure',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='options',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='started_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Member',
            name='resigned_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
