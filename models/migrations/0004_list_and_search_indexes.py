from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_chain_flows')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ChainContact',
            index=Index(fields=['chain_id', 'status', 'id']),
        ),
        ops.AddIndex(
            model_name='ChainCorp',
            index=Index(fields=['chain_id', 'group_id', 'id']),
        ),
        ops.AddIndex(
            model_name='ChainCorp',
            index=Index(fields=['corp_id']),
        ),
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'status', 'hidden_from_directory']),
        ),
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'pinyin_full', 'id']),
        ),
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'pinyin_initials']),
        ),
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'name', 'id']),
        ),
    ]
