"""A provider as the directory describes it at one moment: what a list item or a referral keeps,
so a later edit in the directory does not change what the client or provider was sent."""
from shared.errors import ValidationFailed

FIELDS = ("id", "name", "credentials", "specialties", "phone", "email", "website", "address",
          "telehealth", "accepting_new_clients")


def snapshot_of(provider):
    snapshot = {name: provider.get(name) for name in FIELDS}
    if isinstance(snapshot["credentials"], (list, tuple)):
        snapshot["credentials"] = ", ".join(snapshot["credentials"])
    snapshot["specialties"] = list(snapshot["specialties"] or ())
    return snapshot


def take_snapshots(provider_ids, fetch, field="items"):
    """{provider id: snapshot}; ``fetch`` is ``directory.provider_snapshots`` on the caller's
    behalf, which answers only for the caller's program, so another program's provider is as
    unknown as a missing one."""
    wanted = list(dict.fromkeys(str(provider_id) for provider_id in provider_ids))
    if not wanted:
        return {}
    found = {str(item["id"]): snapshot_of(item) for item in fetch(wanted)["items"]}
    missing = [provider_id for provider_id in wanted if provider_id not in found]
    if missing:
        raise ValidationFailed("Unknown provider", errors={field: [f"No such provider: {i}" for i in missing]})
    return found
