"""Referrers (seed 002): companies, their business units and case managers, the value lists of
their fields, promotions, the recruitment view, and the case-manager portal.

Staff with ``referrers.manage`` keep the records; value lists are program settings. A case
manager's login (``case_manager.portal`` only) makes referrals to the program and sees its own
and its business unit's, nothing else."""
from directory import schemas as s
from gateway.routing import Route
from referrals import schemas as referral_schemas
from shared.permissions import CASE_MANAGER_PORTAL, REFERRERS_MANAGE, REPORTS_VIEW, SETTINGS_MANAGE
from shared.schemas import PageQuery

TAG = "referrers"
MANAGE = (REFERRERS_MANAGE,)
COMPANY = "/api/v1/companies/<uuid:company_id>"
CASE_MANAGER = "/api/v1/case-managers/<uuid:case_manager_id>"
VALUE_LIST = "/api/v1/value-lists/<string:name>"
PORTAL_REFERRALS = "/api/v1/case-manager/referrals"

ROUTES = [
    Route("GET", "/api/v1/companies", "directory.list_companies", "Companies that refer, by name",
          permissions=MANAGE, query=s.CompanyQuery, response=s.CompanyPage, tag=TAG),
    Route("POST", "/api/v1/companies", "directory.create_company", "Add a company",
          permissions=MANAGE, body=s.CompanyCreate, response=s.CompanyOut, status=201, tag=TAG),
    Route("GET", COMPANY, "directory.get_company", "One company", permissions=MANAGE, response=s.CompanyOut, tag=TAG),
    Route("PATCH", COMPANY, "directory.update_company", "Change a company",
          permissions=MANAGE, body=s.CompanyUpdate, response=s.CompanyOut, tag=TAG),
    Route("GET", COMPANY + "/business-units", "directory.list_business_units", "A company's business units, by name",
          permissions=MANAGE, query=PageQuery, response=s.BusinessUnitPage, tag=TAG),
    Route("POST", COMPANY + "/business-units", "directory.create_business_unit",
          "Add a business unit (its case managers see each other's referrals)",
          permissions=MANAGE, body=s.BusinessUnitCreate, response=s.BusinessUnitOut, status=201, tag=TAG),
]

ROUTES += [
    Route("GET", "/api/v1/case-managers", "directory.search_case_managers",
          "Case managers by name: text search and a filter on each field", permissions=MANAGE,
          query=s.CaseManagerQuery, response=s.CaseManagerPage, tag=TAG),
    Route("POST", "/api/v1/case-managers", "directory.create_case_manager",
          "Add a case manager (has_login: true invites them to a login, which needs their email)",
          permissions=MANAGE, body=s.CaseManagerCreate, response=s.CaseManagerOut, status=201, tag=TAG),
    Route("GET", "/api/v1/case-managers/recruitment", "directory.recruitment_view",
          "Recruitment: case managers per status and per business support officer",
          permissions=(REFERRERS_MANAGE, REPORTS_VIEW), query=s.RecruitmentQuery, response=s.RecruitmentView,
          tag=TAG),
    Route("GET", CASE_MANAGER, "directory.get_case_manager", "One case manager",
          permissions=MANAGE, response=s.CaseManagerOut, tag=TAG),
    Route("PATCH", CASE_MANAGER, "directory.update_case_manager",
          "Change a case manager (pass `version` to refuse overwriting someone else's change)",
          permissions=MANAGE, body=s.CaseManagerUpdate, response=s.CaseManagerOut, tag=TAG),
    Route("GET", CASE_MANAGER + "/history", "directory.case_manager_history",
          "Every change of a case manager, field by field: old, new, who, when",
          permissions=MANAGE, query=s.HistoryQuery, response=s.HistoryPage, tag=TAG),
    Route("GET", VALUE_LIST, "directory.get_value_list",
          "A value list of case managers' fields (positions, referral-sources) with each value's use",
          permissions=(REFERRERS_MANAGE, SETTINGS_MANAGE), response=s.ValueListOut, tag=TAG),
    Route("PUT", VALUE_LIST, "directory.put_value_list",
          "Replace a value list; a removed value in use is refused unless remapped",
          permissions=(SETTINGS_MANAGE,), body=s.ValueListUpdate, response=s.ValueListOut, tag=TAG),
    Route("GET", "/api/v1/promotions", "directory.list_promotions", "Promotions sent, newest first",
          permissions=MANAGE, query=PageQuery, response=s.PromotionPage, tag=TAG),
    Route("POST", "/api/v1/promotions", "directory.send_promotion",
          "Email a promotion to the case managers subscribed to promotions with verified contact details "
          "(Idempotency-Key accepted)", permissions=MANAGE, body=s.PromotionCreate,
          forward_headers=("Idempotency-Key",), response=s.PromotionOut, status=202, tag=TAG),
]

ROUTES += [
    Route("GET", PORTAL_REFERRALS, "referrals.case_manager_referrals",
          "Case-manager portal: your referrals and your business unit's, newest first",
          permissions=(CASE_MANAGER_PORTAL,), query=referral_schemas.CaseManagerReferralQuerySchema,
          response=referral_schemas.CaseManagerReferralPageSchema, tag="case manager portal"),
    Route("POST", PORTAL_REFERRALS, "referrals.make_case_manager_referral",
          "Case-manager portal: refer someone to the program", permissions=(CASE_MANAGER_PORTAL,),
          body=referral_schemas.CaseManagerReferralCreateSchema, response=referral_schemas.CaseManagerReferralSchema,
          status=201, tag="case manager portal"),
    Route("GET", PORTAL_REFERRALS + "/<uuid:case_manager_referral_id>", "referrals.case_manager_referral",
          "Case-manager portal: one referral of yours or your business unit's",
          permissions=(CASE_MANAGER_PORTAL,), response=referral_schemas.CaseManagerReferralSchema,
          tag="case manager portal"),
]
