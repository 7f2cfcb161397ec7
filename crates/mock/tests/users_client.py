"""Drive the users client that openapi-python-client generated from Blueprint's
OpenAPI export against `dev mock`: every operation round-trips through the typed
client, and a 422 decodes as the spec's declared `validation_error`.

usage: users_client.py <generated client folder> <mock URL>
"""

import sys

sys.path.insert(0, sys.argv[1])
base_url = sys.argv[2]

from users_client import Client  # noqa: E402
from users_client.api.users import (  # noqa: E402
    delete_users_by_id,
    get_users,
    get_users_by_id,
    post_users,
    put_users_by_id,
)
from users_client.models import Name, User, UserForm, UserStatus, ValidationError  # noqa: E402

client = Client(base_url=base_url, raise_on_unexpected_status=True)


def expect(response, status, kind):
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, kind), (type(response.parsed), response.content)
    return response.parsed


ada = UserForm(
    name=Name(first="Ada", last="Lovelace"), email="ada@example.com", status=UserStatus.PENDING
)
created = expect(post_users.sync_detailed(client=client, body=ada), 201, User)
assert (created.email, created.name.first, created.status) == (
    "ada@example.com",
    "Ada",
    UserStatus.PENDING,
), created

found = expect(get_users_by_id.sync_detailed(created.id, client=client), 200, User)
assert found.to_dict() == created.to_dict(), (found, created)

listed = expect(get_users.sync_detailed(client=client, limit=10), 200, list)
assert all(isinstance(u, User) for u in listed), listed

grace = UserForm(name=Name(first="Grace"), email="grace@example.com")
changed = expect(put_users_by_id.sync_detailed(created.id, client=client, body=grace), 200, User)
assert (changed.id, changed.email, changed.name.first) == (created.id, "grace@example.com", "Grace")
found = expect(get_users_by_id.sync_detailed(created.id, client=client), 200, User)
assert found.to_dict() == changed.to_dict(), (found, changed)

too_long = UserForm(name=Name(first="X"), email="x" * 321)
invalid = expect(post_users.sync_detailed(client=client, body=too_long), 422, ValidationError)
assert invalid.code == "validation_failed", invalid
assert [v.path for v in invalid.violations] == ["body.email"], invalid.violations

deleted = delete_users_by_id.sync_detailed(created.id, client=client)
assert deleted.status_code == 204, deleted
gone = get_users_by_id.sync_detailed(created.id, client=client)
assert gone.status_code == 404, gone

print("every operation round-tripped: 5 operations, and a 422 as validation_error")
