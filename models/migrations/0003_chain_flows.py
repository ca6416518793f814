from tortoise import migrations
from tortoise.migrations import operations as ops
from models.chain import JoinRequestKind, JoinRequestStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_import_sources')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JoinRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chain', fields.ForeignKeyField('models.ChainSpace', source_field='chain_id', db_constraint=True, to_field='id', related_name='join_requests', on_delete=OnDelete.CASCADE)),
                ('chain_corp', fields.ForeignKeyField('models.ChainCorp', source_field='chain_corp_id', db_constraint=True, to_field='id', related_name='join_requests', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.ChainContact', source_field='contact_id', db_constraint=True, to_field='id', related_name='join_requests', on_delete=OnDelete.CASCADE)),
                ('corp', fields.ForeignKeyField('models.Corp', source_field='corp_id', db_constraint=True, to_field='id', related_name='join_requests', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='JOIN: JOIN\nCONFIRM: CONFIRM', enum_type=JoinRequestKind, max_length=16)),
                ('status', fields.CharEnumField(default=JoinRequestStatus.PENDING, description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED\nCANCELLED: CANCELLED', enum_type=JoinRequestStatus, max_length=16)),
                ('requested_by_member', fields.ForeignKeyField('models.Member', source_field='requested_by_member_id', null=True, db_constraint=True, to_field='id', related_name='join_requests_made', on_delete=OnDelete.SET_NULL)),
                ('requested_by_person', fields.ForeignKeyField('models.Person', source_field='requested_by_person_id', null=True, db_constraint=True, to_field='id', related_name='join_requests', on_delete=OnDelete.SET_NULL)),
                ('decided_by', fields.ForeignKeyField('models.Member', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='join_requests_decided', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('open_key', fields.IntField(null=True, unique=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'join_request', 'app': 'models', 'indexes': [Index(fields=['corp_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ChainContact',
            name='declined_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ChainContact',
            name='invited_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ChainContact',
            name='join_code',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='ChainContact',
            name='joined_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ChainCorp',
            name='decided_by',
            field=fields.ForeignKeyField('models.Member', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_chain_corps', on_delete=OnDelete.SET_NULL),
        ),
        ops.AlterModelOptions(
            name='ImportSource',
            options={'table': 'import_source', 'app': 'models', 'pk_attr': 'job_id'},
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['chain_id', 'created_at']),
        ),
        ops.AddField(
            model_name='Notification',
            name='chain_contact',
            field=fields.ForeignKeyField('models.ChainContact', source_field='chain_contact_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE),
        ),
    ]
