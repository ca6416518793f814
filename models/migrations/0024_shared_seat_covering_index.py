from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# A members page's count adds the members no head-count holds: the shared_seat rows in the
# viewer's visible units (permissions.counts). A scoped member sees a few hundred units of a
# corp, so PostgreSQL read every shared_seat row of the corp (12,324 at bench scale) and
# tested each against the list of units: 2-3 ms of the page's 4 ms. With the member, status
# and hidden flag in the (corp_id, unit_id) index, the count is one index-only probe per
# visible unit (about 1 ms), and SQLite answers it from the index alone too. The wider index
# serves every lookup the narrow one served (the same leading columns), so it replaces it.


class Migration(migrations.Migration):
    dependencies = [('models', '0023_contact_seat_statement_trigger')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='SharedSeat',
            name=None,
            fields=['corp_id', 'unit_id'],
        ),
        ops.AddIndex(
            model_name='SharedSeat',
            index=Index(fields=['corp_id', 'unit_id', 'member_id', 'status', 'hidden']),
        ),
    ]
