from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# searchMembers' gender and position filters match a large share of a corp (half its members
# are of one gender): the page walks the pinyin index and stops after 20 rows, but its
# totalCount tests every member. Without an index holding the column, SQLite counted through
# the (corp_id, hire_date) index, one table lookup per member (35 ms at 50,000 members);
# these cover the count (status and the listed test included), so it reads only the index
# (3 ms for a gender, 9 ms for a position contains-test, which scans the narrow index).


class Migration(migrations.Migration):
    dependencies = [('models', '0020_chain_corp_headcounts')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'gender', 'status', 'hidden_from_directory']),
        ),
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['corp_id', 'position', 'status', 'hidden_from_directory']),
        ),
    ]
