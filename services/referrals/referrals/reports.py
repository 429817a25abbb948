"""The referral report: counts by provider (clinician or agency), by staff member, by status
and by period, with inbound requests per provider and the median time from request to
acceptance; as JSON or as a CSV file that a spreadsheet cannot mistake for formulas.
Periods are calendar days, weeks or months in UTC."""
import csv
import io
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Date, cast, extract, func, select

from referrals.models import InboundRequest, Referral, StaffProfile
from referrals.schemas import ReferralReportSchema
from shared import audit, permissions as p
from shared.files import file_result, spreadsheet_safe

DEFAULT_DAYS = 90
CSV_COLUMNS = ("grouping", "key", "label", "referrals", "accepted", "completed", "inbound_requests",
               "median_hours_to_acceptance")


def _hours_to_acceptance():
    return func.percentile_cont(0.5).within_group(
        extract("epoch", Referral.accepted_at - Referral.requested_at) / 3600)


def _counts(session, org_id, start, end, key):
    """Rows of (key, referrals, accepted, completed, median hours) grouped by ``key``."""
    return session.execute(
        select(key, func.count(), func.count(Referral.accepted_at),
               func.count().filter(Referral.status == "completed"), _hours_to_acceptance())
        .where(Referral.org_id == org_id, Referral.created_at >= start, Referral.created_at < end)
        .group_by(key).order_by(func.count().desc())).all()


def _row(key, label, referrals=0, accepted=0, completed=0, median=None, inbound=0):
    return {"key": None if key is None else str(key), "label": label or "", "referrals": referrals,
            "accepted": accepted, "completed": completed, "inbound_requests": inbound,
            "median_hours_to_acceptance": None if median is None else round(float(median), 2)}


def build(session, org_id, since, until, period):
    start = datetime.combine(since, time.min, tzinfo=timezone.utc)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=timezone.utc)
    in_window = (InboundRequest.org_id == org_id, InboundRequest.created_at >= start, InboundRequest.created_at < end)

    names = dict(session.execute(
        select(Referral.provider_id, func.max(Referral.provider_snapshot["name"].astext))
        .where(Referral.org_id == org_id).group_by(Referral.provider_id)).all())
    inbound = {}
    for provider_id, name, count in session.execute(
            select(InboundRequest.provider_id, func.max(InboundRequest.provider_name), func.count())
            .where(*in_window).group_by(InboundRequest.provider_id)):
        names.setdefault(provider_id, name)
        inbound[provider_id] = count
    by_provider = [_row(k, names.get(k), *rest, inbound=inbound.pop(k, 0))
                   for k, *rest in _counts(session, org_id, start, end, Referral.provider_id)]
    by_provider += [_row(k, names.get(k), inbound=count) for k, count in inbound.items()]

    staff = {s.user_id: f"{s.first_name} {s.last_name}".strip()
             for s in session.scalars(select(StaffProfile).where(StaffProfile.org_id == org_id))}
    by_staff = [_row(k, staff.get(k) or str(k), *rest)
                for k, *rest in _counts(session, org_id, start, end, Referral.created_by)]
    by_status = [_row(k, k, *rest) for k, *rest in _counts(session, org_id, start, end, Referral.status)]

    bucket = cast(func.date_trunc(period, func.timezone("UTC", Referral.created_at)), Date)
    inbound_bucket = cast(func.date_trunc(period, func.timezone("UTC", InboundRequest.created_at)), Date)
    inbound_by_period = dict(session.execute(select(inbound_bucket, func.count()).where(*in_window)
                                             .group_by(inbound_bucket)).all())
    by_period = {k: _row(k.isoformat(), k.isoformat(), *rest, inbound=inbound_by_period.get(k, 0))
                 for k, *rest in _counts(session, org_id, start, end, bucket)}
    for k, count in inbound_by_period.items():
        by_period.setdefault(k, _row(k.isoformat(), k.isoformat(), inbound=count))

    median = session.scalar(select(_hours_to_acceptance()).where(
        Referral.org_id == org_id, Referral.created_at >= start, Referral.created_at < end))
    return {"since": since, "until": until, "by_provider": by_provider, "by_staff": by_staff,
            "by_status": by_status, "by_period": [by_period[k] for k in sorted(by_period)],
            "median_hours_to_acceptance": None if median is None else round(float(median), 2)}


def referral_report(session, caller, query):
    caller.require(p.REPORTS_VIEW)
    until = query.get("until") or date.today()
    since = query.get("since") or until - timedelta(days=DEFAULT_DAYS)
    report = ReferralReportSchema().dump(build(session, caller.org_uuid, since, until, query["period"]))
    audit.record_for(session, caller, "report.referrals", "report", details={"format": query["format"]})
    session.commit()
    if query["format"] == "csv":
        return file_result(to_csv(report).encode("utf-8"), "text/csv; charset=utf-8",
                           f"referrals-{since.isoformat()}-{until.isoformat()}.csv")
    return report


def to_csv(report):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for grouping in ("by_provider", "by_staff", "by_status", "by_period"):
        for row in report[grouping]:
            writer.writerow([spreadsheet_safe(grouping.removeprefix("by_"))]
                            + [spreadsheet_safe(row[column]) for column in CSV_COLUMNS[1:]])
    return out.getvalue()
