"""Companies, business units, case managers (rules, history, search, recruitment), value lists,
the staff read model and promotions, on PostgreSQL."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from directory import case_managers, companies, promotions, staff_members, value_lists
from directory.errors import Conflict, NotFound, ValidationFailed
from directory.models import CaseManager
from directory.schemas import CaseManagerCreate, CaseManagerQuery, CaseManagerUpdate, CompanyCreate

ACTOR = uuid.uuid4()


@pytest.fixture
def org():
    return uuid.uuid4()


@pytest.fixture
def company(session, org):
    return companies.create_company(session, org, ACTOR, CompanyCreate().load({"name": "Acme Insurance"}))


def an_officer(session, org, kind="staff", active=True):
    user_id = uuid.uuid4()
    staff_members.apply_user_event(session, str(org), datetime.now(timezone.utc).isoformat(),
                                   {"user_id": str(user_id), "kind": kind, "role": "admin"}, active)
    return user_id


def create(session, org, company, **data):
    payload = {"company_id": str(company.id), "first_name": "Alex", "last_name": "Romero", **data}
    return case_managers.create_case_manager(session, org, ACTOR, CaseManagerCreate().load(payload))[0]


def update(session, org, case_manager, actor=ACTOR, **changes):
    return case_managers.update_case_manager(session, org, actor, case_manager.id,
                                             CaseManagerUpdate().load(changes))[0]


def search(session, org, **query):
    return case_managers.search_case_managers(session, org, CaseManagerQuery().load(query))[0]


def count_case_managers(session, org):
    return session.scalar(select(func.count()).select_from(CaseManager).where(CaseManager.org_id == org))


def test_companies_are_unique_by_name_and_scoped_to_their_program(session, org, company):
    with pytest.raises(Conflict) as error:
        companies.create_company(session, org, ACTOR, {"name": "ACME insurance"})
    assert error.value.errors == {"name": ["Already in use."]}
    assert companies.create_company(session, uuid.uuid4(), ACTOR, {"name": "Acme Insurance"}).id != company.id

    renamed = companies.update_company(session, org, ACTOR, company.id, {"name": "Acme Mutual", "state": "MA"})
    assert (renamed.name, renamed.state) == ("Acme Mutual", "MA")
    with pytest.raises(NotFound):
        companies.get_company(session, uuid.uuid4(), company.id)


def test_company_list_filters_by_name_and_walks_every_page(session, org, company):
    for name in ("Beacon Health", "beacon Rehab", "Cedar Claims"):
        companies.create_company(session, org, ACTOR, {"name": name})
    items, _ = companies.list_companies(session, org, {"q": "beacon", "limit": 10})
    assert [c.name for c in items] == ["Beacon Health", "beacon Rehab"]
    walked, cursor = [], None
    while True:
        items, cursor = companies.list_companies(session, org, {"limit": 3, "cursor": cursor})
        walked += [c.name for c in items]
        if not cursor:
            break
    assert walked == ["Acme Insurance", "Beacon Health", "beacon Rehab", "Cedar Claims"]


def test_business_units_belong_to_one_company(session, org, company):
    unit = companies.create_business_unit(session, org, ACTOR, company.id, {"name": "Workers Comp"})
    with pytest.raises(Conflict) as error:
        companies.create_business_unit(session, org, ACTOR, company.id, {"name": "workers comp"})
    assert error.value.errors == {"name": ["Already in use in this company."]}
    other = companies.create_company(session, org, ACTOR, {"name": "Other Co"})
    assert companies.create_business_unit(session, org, ACTOR, other.id, {"name": "Workers Comp"}).id != unit.id
    items, _ = companies.list_business_units(session, org, company.id, {"limit": 10})
    assert [u.id for u in items] == [unit.id]
    with pytest.raises(NotFound):
        companies.list_business_units(session, uuid.uuid4(), company.id, {"limit": 10})


def test_a_case_manager_needs_a_company_of_the_program_and_a_unit_of_that_company(session, org, company):
    other_company = companies.create_company(session, org, ACTOR, {"name": "Other Co"})
    foreign_unit = companies.create_business_unit(session, org, ACTOR, other_company.id, {"name": "Claims"})
    stranger = companies.create_company(session, uuid.uuid4(), ACTOR, {"name": "Stranger Co"})

    with pytest.raises(ValidationFailed) as error:
        create(session, org, stranger)
    assert error.value.errors == {"company_id": ["No such company."]}
    with pytest.raises(ValidationFailed) as error:
        create(session, org, company, business_unit_id=str(foreign_unit.id))
    assert error.value.errors == {"business_unit_id": ["Not a business unit of the case manager's company."]}
    with pytest.raises(ValidationFailed) as error:
        create(session, org, company, business_unit_id=str(uuid.uuid4()))
    assert error.value.errors == {"business_unit_id": ["No such business unit."]}
    assert count_case_managers(session, org) == 0

    case_manager = create(session, org, company)
    with pytest.raises(ValidationFailed) as error:  # moving company while keeping the old company's unit
        update(session, org, case_manager, business_unit_id=str(foreign_unit.id))
    assert error.value.errors == {"business_unit_id": ["Not a business unit of the case manager's company."]}
    moved = update(session, org, case_manager, company_id=str(other_company.id),
                   business_unit_id=str(foreign_unit.id))
    assert (moved.company_id, moved.business_unit_id) == (other_company.id, foreign_unit.id)


def test_email_is_required_exactly_when_a_login_is_given(session, org, company):
    without_login = create(session, org, company)
    assert without_login.email is None and not without_login.has_login

    with pytest.raises(ValidationFailed) as error:
        update(session, org, without_login, has_login=True)
    assert error.value.errors == {"email": ["Required for a case manager with a login."]}

    given, login_given = case_managers.update_case_manager(
        session, org, ACTOR, without_login.id, {"has_login": True, "email": "alex@acme.example"})
    assert login_given and given.has_login and given.login_invited_at is not None
    _, again = case_managers.update_case_manager(session, org, ACTOR, given.id, {"phone": "617-555-0100"})
    assert not again

    with pytest.raises(ValidationFailed) as error:
        update(session, org, given, email=None)
    assert error.value.errors == {"email": ["Required for a case manager with a login."]}
    with pytest.raises(ValidationFailed) as error:
        update(session, org, given, has_login=False)
    assert list(error.value.errors) == ["has_login"]


def test_position_and_referral_source_come_from_the_value_lists(session, org, company):
    with pytest.raises(ValidationFailed) as error:
        create(session, org, company, position="Astronaut", referral_source="Billboard")
    assert error.value.errors == {
        "position": ["Not in the positions value list; add it there first."],
        "referral_source": ["Not in the referral-sources value list; add it there first."]}
    case_manager = create(session, org, company, position="Case Manager", referral_source="Website")
    assert (case_manager.position, case_manager.referral_source) == ("Case Manager", "Website")


def test_the_business_support_officer_is_an_active_staff_member(session, org, company):
    officer = an_officer(session, org)
    for not_staff in (uuid.uuid4(), an_officer(session, org, kind="partner"), an_officer(session, org, active=False),
                      an_officer(session, uuid.uuid4())):
        with pytest.raises(ValidationFailed) as error:
            create(session, org, company, business_support_officer_id=str(not_staff))
        assert error.value.errors == {"business_support_officer_id": ["Not an active staff member of the program."]}
    with pytest.raises(ValidationFailed) as error:
        create(session, org, company, business_support_officer_assigned_on="2026-01-05")
    assert error.value.errors == {"business_support_officer_assigned_on": ["Only with a business support officer."]}

    assigned_today = create(session, org, company, business_support_officer_id=str(officer))
    assert assigned_today.business_support_officer_assigned_on == date.today()
    dated = create(session, org, company, business_support_officer_id=str(officer),
                   business_support_officer_assigned_on="2026-01-05")
    assert dated.business_support_officer_assigned_on == date(2026, 1, 5)
    cleared = update(session, org, dated, business_support_officer_id=None)
    assert cleared.business_support_officer_assigned_on is None


def test_staff_read_model_only_moves_forward(session, org):
    user_id = uuid.uuid4()
    later, earlier = datetime.now(timezone.utc), datetime.now(timezone.utc) - timedelta(minutes=5)
    data = {"user_id": str(user_id), "kind": "staff", "role": "default"}
    staff_members.apply_user_event(session, str(org), later.isoformat(), data, active=False)
    staff_members.apply_user_event(session, str(org), earlier.isoformat(), data, active=True)
    assert not staff_members.is_active_staff(session, org, user_id)


def test_changes_are_recorded_field_by_field_with_who_and_when(session, org, company):
    other_actor = uuid.uuid4()
    case_manager = create(session, org, company, email="alex@acme.example")
    assert case_manager.created_by == ACTOR
    updated = update(session, org, case_manager, actor=other_actor, recruitment_status="onboarding",
                     contact_verified=True, email="alex@acme.example")
    assert updated.version == 2 and updated.updated_by == other_actor
    history = case_managers.history(session, org, case_manager.id)
    latest = [entry for entry in history.items if entry.action == "updated"]
    assert {e.field: (e.old_value, e.new_value, e.actor_id) for e in latest} == {
        "recruitment_status": ("recruiting", "onboarding", other_actor),
        "contact_verified": (False, True, other_actor)}
    created = {entry.field: entry.new_value for entry in history.items if entry.action == "created"}
    assert created["first_name"] == "Alex" and created["company_id"] == str(company.id)
    assert "business_unit_id" not in created  # nothing is recorded for an empty field

    with pytest.raises(Conflict):
        case_managers.update_case_manager(session, org, ACTOR, case_manager.id, {"title": "Dr"}, expected_version=1)
    with pytest.raises(NotFound):
        case_managers.history(session, uuid.uuid4(), case_manager.id)


def test_a_referral_onboards_a_case_manager_not_yet_onboarded(session, org, company):
    onboarding = create(session, org, company, recruitment_status="onboarding")
    non_booking = create(session, org, company, recruitment_status="non_booking_contact")

    assert case_managers.note_referral(session, org, onboarding.id)
    assert onboarding.recruitment_status == "onboarded"
    assert not case_managers.note_referral(session, org, onboarding.id)
    assert not case_managers.note_referral(session, org, non_booking.id)
    assert not case_managers.note_referral(session, uuid.uuid4(), onboarding.id)  # another program's event
    assert non_booking.recruitment_status == "non_booking_contact"

    [change] = [e for e in case_managers.history(session, org, onboarding.id).items if e.action == "updated"]
    assert (change.field, change.old_value, change.new_value, change.actor_id) == (
        "recruitment_status", "onboarding", "onboarded", None)


def test_unsubscribing_clears_the_flag_of_that_address_in_that_program(session, org, company):
    subscribed = create(session, org, company, email="pat@acme.example", subscribed_to_promotions=True)
    elsewhere = companies.create_company(session, uuid.uuid4(), ACTOR, {"name": "Elsewhere"})
    other_program = create(session, elsewhere.org_id, elsewhere, email="pat@acme.example",
                           subscribed_to_promotions=True)

    assert case_managers.unsubscribe_from_promotions(session, org, "PAT@acme.example") == 1
    assert not subscribed.subscribed_to_promotions and other_program.subscribed_to_promotions
    [change] = [e for e in case_managers.history(session, org, subscribed.id).items if e.action == "updated"]
    assert (change.field, change.new_value, change.actor_id) == ("subscribed_to_promotions", False, None)


@pytest.mark.parametrize("field, value, query_value", [
    ("title", "Dr", "dr"), ("first_name", "Zoë", "zoë"), ("last_name", "Quinn", "QUINN"),
    ("email", "zq@acme.example", "ZQ@acme.example"), ("phone", "617-555-0199", "617-555-0199"),
    ("mobile", "617-555-0198", "617-555-0198"), ("position", "Social Worker", "social worker"),
    ("suburb", "Cambridge", "cambridge"), ("postcode", "02139", "02139"), ("state", "MA", "ma"),
    ("linkedin_url", "https://linkedin.com/in/zq", "https://linkedin.com/in/zq"),
    ("referral_source", "Conference or event", "conference or event"),
    ("business_support_officer_assigned_on", "2026-02-01", None),
    ("contact_verified", True, "true"), ("subscribed_to_promotions", True, "true"), ("has_login", True, "true"),
    ("recruitment_status", "non_booking_contact", "non_booking_contact"),
])
def test_every_field_can_be_filtered_on(session, org, company, field, value, query_value):
    officer = an_officer(session, org)
    extra = {"email": "zq@acme.example"} if field == "has_login" else {}
    if field == "business_support_officer_assigned_on":
        extra = {"business_support_officer_id": str(officer)}
    match = create(session, org, company, **{field: value}, **extra)
    create(session, org, company, first_name="Other", last_name="Person")

    if field == "business_support_officer_assigned_on":
        query = {"business_support_officer_assigned_from": "2026-02-01",
                 "business_support_officer_assigned_until": "2026-02-01"}
    else:
        query = {field: query_value}
    assert [found.id for found in search(session, org, **query)] == [match.id]


def test_filters_on_references_combine_and_text_search_finds_words(session, org, company):
    officer = an_officer(session, org)
    unit = companies.create_business_unit(session, org, ACTOR, company.id, {"name": "Claims"})
    other_company = companies.create_company(session, org, ACTOR, {"name": "Other Co"})
    mine = create(session, org, company, business_unit_id=str(unit.id), business_support_officer_id=str(officer),
                  recruitment_status="onboarding", suburb="Somerville", first_name="José")
    create(session, org, other_company, recruitment_status="recruiting")
    stranger = companies.create_company(session, uuid.uuid4(), ACTOR, {"name": "Stranger Co"})
    create(session, stranger.org_id, stranger, recruitment_status="onboarding", suburb="Somerville")

    assert [c.id for c in search(session, org, company_id=str(company.id))] == [mine.id]
    assert [c.id for c in search(session, org, business_unit_id=str(unit.id))] == [mine.id]
    assert [c.id for c in search(session, org, business_support_officer_id=str(officer))] == [mine.id]
    assert [c.id for c in search(session, org, created_by=str(ACTOR), company_id=str(company.id))] == [mine.id]
    assert len(search(session, org, recruitment_status="onboarding,recruiting")) == 2
    assert [c.id for c in search(session, org, q="somerville")] == [mine.id]
    assert [c.id for c in search(session, org, q="jose romero")] == [mine.id]  # accents folded
    assert search(session, org, q="somerville", company_id=str(other_company.id)) == []


def test_the_list_walks_every_case_manager_in_name_order(session, org, company):
    names = [("Avery", "Brown"), ("Blake", "Brown"), ("Casey", "Adams"), ("Drew", "Young"), ("Eli", "Brown")]
    for first, last in names:
        create(session, org, company, first_name=first, last_name=last)
    walked, cursor = [], None
    while True:
        items, cursor = case_managers.search_case_managers(
            session, org, CaseManagerQuery().load({"limit": 2, **({"cursor": cursor} if cursor else {})}))
        walked += [(c.first_name, c.last_name) for c in items]
        if not cursor:
            break
    assert walked == sorted(names, key=lambda name: (name[1], name[0]))


def test_recruitment_counts_by_status_and_by_officer(session, org, company):
    first, second = an_officer(session, org), an_officer(session, org)
    for status, officer in [("recruiting", first), ("onboarding", first), ("onboarding", first),
                            ("onboarded", second), ("non_booking_contact", None)]:
        create(session, org, company, recruitment_status=status,
               **({"business_support_officer_id": str(officer)} if officer else {}))
    counts = case_managers.recruitment_counts(session, org)
    assert counts["total"] == 5
    assert counts["by_status"] == {"recruiting": 1, "onboarding": 2, "onboarded": 1, "non_booking_contact": 1}
    assert counts["by_business_support_officer"][0] == {
        "business_support_officer_id": first, "total": 3,
        "by_status": {"recruiting": 1, "onboarding": 2, "onboarded": 0, "non_booking_contact": 0}}
    assert {row["business_support_officer_id"]: row["total"] for row in counts["by_business_support_officer"]} == {
        first: 3, second: 1, None: 1}
    elsewhere = companies.create_company(session, org, ACTOR, {"name": "Elsewhere"})
    assert case_managers.recruitment_counts(session, org, elsewhere.id)["total"] == 0


def test_removing_a_value_in_use_is_refused_unless_it_is_remapped(session, org, company):
    case_manager = create(session, org, company, position="Team Leader")
    values, updated_at = value_lists.current(session, org, "positions")
    assert "Team Leader" in values and updated_at is None
    wanted = [value for value in values if value != "Team Leader"] + ["Team Lead"]
    usage = case_managers.value_usage(session, org, "position")

    with pytest.raises(Conflict) as error:
        value_lists.plan_replacement(values, wanted, {}, usage)
    assert error.value.errors == {"values": [
        "'Team Leader' is used by 1 case manager(s): keep it, or remap it to a value that stays."]}
    with pytest.raises(ValidationFailed) as error:
        value_lists.plan_replacement(values, wanted, {"Team Leader": "Chief"}, usage)
    assert error.value.errors == {"remap": ["'Team Leader' cannot become 'Chief', which is not in the list."]}

    remapping = value_lists.plan_replacement(values, wanted, {"Team Leader": "Team Lead"}, usage)
    case_managers.remap_values(session, org, ACTOR, "position", remapping)
    value_lists.store(session, org, ACTOR, "positions", wanted)
    assert case_manager.position == "Team Lead"
    assert value_lists.current(session, org, "positions")[0] == wanted
    [change] = [e for e in case_managers.history(session, org, case_manager.id).items if e.action == "updated"]
    assert (change.field, change.old_value, change.new_value) == ("position", "Team Leader", "Team Lead")
    with pytest.raises(NotFound):
        value_lists.spec("hobbies")


def test_a_promotion_goes_only_to_subscribed_verified_case_managers_and_once_per_key(session, org, company):
    reached = create(session, org, company, email="yes@acme.example", subscribed_to_promotions=True,
                     contact_verified=True)
    create(session, org, company, email="unverified@acme.example", subscribed_to_promotions=True)
    create(session, org, company, email="unsubscribed@acme.example", contact_verified=True)
    create(session, org, company, subscribed_to_promotions=True, contact_verified=True)  # no email
    data = {"headline": "Spring groups", "message": "Three new groups.", "link": "https://example.org/groups"}

    promotion, sent = promotions.send(session, org, ACTOR, data, "Riverside", idempotency_key="p-1")
    assert sent and promotion.recipient_count == 1
    again, sent_again = promotions.send(session, org, ACTOR, data, "Riverside", idempotency_key="p-1")
    assert again.id == promotion.id and not sent_again

    requests = session.execute(text(
        "SELECT payload->'data' FROM outbox_events WHERE event_type = 'notification_requested' "
        "AND payload->'data'->>'source_ref' = :ref"), {"ref": f"promotion:{promotion.id}"}).scalars().all()
    assert [(r["kind"], r["recipients"], r["variables"]["recipient_name"]) for r in requests] == [
        ("promotion", [{"address": "yes@acme.example", "name": "Alex Romero", "language": "en", "subscribed": True}],
         reached.first_name)]
    items, _ = promotions.list_promotions(session, org, {"limit": 10})
    assert [item.id for item in items] == [promotion.id]
    with pytest.raises(ValidationFailed):
        promotions.send(session, org, ACTOR, data, "Riverside", idempotency_key="k" * 201)
