"""The directory service's nameko entrypoints: decode, call the use case, encode."""
import os

from nameko.rpc import RpcProxy
from nameko.timer import timer

from directory import catalog, events, hsds_api, program_names, referrers, schemas
from shared.events import event_handler
from shared.schemas import PageQuery, load
from shared.service import ServiceBase
from shared.rpc import rpc


IMPORT_POLL_SECONDS = 1.0
# How often stale records are looked for (directory.update_requests); read when the class is
# defined, as nameko's timer takes its interval then.
STALE_SWEEP_SECONDS = float(os.environ.get("PROVIDER_STALE_SWEEP_SECONDS", "3600"))


class DirectoryService(ServiceBase):
    name = "directory"

    identity = RpcProxy("identity")

    @property
    def public_base_url(self):
        return self.config["PUBLIC_BASE_URL"].rstrip("/")

    def _program_name_from_identity(self):
        """The caller's program's name, asked of identity on the caller's behalf (see program_names.signature_of)."""
        return self.identity.me()["organization"]["name"]

    @rpc
    def create_provider(self, payload):
        return catalog.create(self.db, self.auth.current, load(schemas.ProviderCreate(), payload))

    @rpc
    def get_provider(self, provider_id):
        return catalog.get(self.db, self.auth.current, provider_id)

    @rpc
    def update_provider(self, provider_id, payload):
        return catalog.update(self.db, self.auth.current, provider_id, load(schemas.ProviderUpdate(), payload))

    @rpc
    def delete_provider(self, provider_id):
        catalog.delete(self.db, self.auth.current, provider_id)

    @rpc
    def provider_history(self, provider_id, query):
        return catalog.history(self.db, self.auth.current, provider_id, load(schemas.HistoryQuery(), query))

    @rpc
    def search_providers(self, query):
        return catalog.search(self.db, self.auth.current, load(schemas.SearchQuery(), query))

    @rpc
    def provider_snapshots(self, provider_ids):
        return catalog.snapshots(self.db, self.auth.current, provider_ids)

    @rpc
    def get_settings(self):
        return catalog.get_settings(self.db, self.auth.current)

    @rpc
    def put_settings(self, payload):
        return catalog.put_settings(self.db, self.auth.current, load(schemas.DirectorySettings(), payload))

    @rpc
    def list_taxonomies(self, query):
        return catalog.taxonomies(self.db, self.auth.current, load(schemas.TaxonomyQuery(), query))

    @rpc
    def public_search(self, slug, query, client=None):
        return catalog.public_search(self.db, slug, load(schemas.SearchQuery(), query))

    @rpc
    def public_provider(self, slug, provider_id, client=None):
        return catalog.public_provider(self.db, slug, provider_id)

    # The HSDS 3.0 read API of a published directory. A list's ``after`` is the cursor of an
    # ndjson stream's next batch, which only the gateway sends (see directory.hsds_api).

    @rpc
    def hsds_api_info(self, slug, client=None):
        return hsds_api.api_info(self.db, slug, self.public_base_url)

    @rpc
    def hsds_services(self, slug, query, after=None, client=None):
        return hsds_api.services(self.db, slug, load(schemas.HsdsServicesQuery(), query), after)

    @rpc
    def hsds_service(self, slug, service_id, client=None):
        return hsds_api.service(self.db, slug, service_id)

    @rpc
    def hsds_organizations(self, slug, query, after=None, client=None):
        return hsds_api.organizations(self.db, slug, load(schemas.HsdsOrganizationsQuery(), query), after)

    @rpc
    def hsds_organization(self, slug, organization_id, query, client=None):
        return hsds_api.organization(self.db, slug, organization_id, load(schemas.HsdsOrganizationQuery(), query))

    @rpc
    def hsds_taxonomies(self, slug, query, after=None, client=None):
        return hsds_api.taxonomies(self.db, slug, load(schemas.HsdsPageQuery(), query), after)

    @rpc
    def hsds_taxonomy(self, slug, taxonomy_id, client=None):
        return hsds_api.taxonomy(self.db, slug, taxonomy_id)

    @rpc
    def hsds_taxonomy_terms(self, slug, query, after=None, client=None):
        return hsds_api.taxonomy_terms(self.db, slug, load(schemas.HsdsTaxonomyTermsQuery(), query), after)

    @rpc
    def hsds_taxonomy_term(self, slug, taxonomy_term_id, client=None):
        return hsds_api.taxonomy_term(self.db, slug, taxonomy_term_id)

    @rpc
    def start_import(self, payload):
        return catalog.start_import(self.db, self.auth.current, load(schemas.ProviderImportCreate(), payload))

    @rpc
    def get_import(self, provider_import_id):
        return catalog.get_import(self.db, self.auth.current, provider_import_id)

    @rpc
    def import_template(self):
        return catalog.import_template(self.auth.current)

    @rpc
    def export_providers(self, query):
        return catalog.export(self.db, self.auth.current, load(schemas.ExportQuery(), query))

    @timer(interval=IMPORT_POLL_SECONDS)
    def run_imports(self):
        catalog.run_imports(self.db)

    # Update requests: providers correct their own records through an emailed link

    @rpc
    def send_update_request(self, provider_id, payload, headers=None):
        idempotency_key = (headers or {}).get("Idempotency-Key") or None
        return catalog.send_update_request(self.db, self.auth.current, provider_id,
                                           load(schemas.UpdateRequestCreate(), payload), idempotency_key,
                                           self.public_base_url, self._program_name_from_identity)

    @rpc
    def list_update_requests(self, query):
        return catalog.list_update_requests(self.db, self.auth.current, load(schemas.UpdateRequestQuery(), query))

    @rpc
    def get_update_request(self, update_request_id):
        return catalog.get_update_request(self.db, self.auth.current, update_request_id)

    @rpc
    def approve_update_request(self, update_request_id):
        return catalog.approve_update_request(self.db, self.auth.current, update_request_id)

    @rpc
    def reject_update_request(self, update_request_id, payload):
        return catalog.reject_update_request(self.db, self.auth.current, update_request_id,
                                             load(schemas.UpdateRequestRejection(), payload))

    @rpc
    def provider_update_form(self, token, client=None):
        return catalog.provider_update_form(self.db, token)

    @rpc
    def submit_provider_update(self, token, payload, client=None):
        return catalog.submit_provider_update(self.db, token, load(schemas.ProviderCorrections(), payload))

    @timer(interval=STALE_SWEEP_SECONDS)
    def send_stale_update_requests(self):
        catalog.send_stale_update_requests(self.db, self.public_base_url)

    # Referrers: companies, business units, case managers, value lists, promotions

    @rpc
    def create_company(self, payload):
        return referrers.create_company(self.db, self.auth.current, load(schemas.CompanyCreate(), payload))

    @rpc
    def get_company(self, company_id):
        return referrers.get_company(self.db, self.auth.current, company_id)

    @rpc
    def update_company(self, company_id, payload):
        return referrers.update_company(self.db, self.auth.current, company_id, load(schemas.CompanyUpdate(), payload))

    @rpc
    def list_companies(self, query):
        return referrers.list_companies(self.db, self.auth.current, load(schemas.CompanyQuery(), query))

    @rpc
    def create_business_unit(self, company_id, payload):
        return referrers.create_business_unit(self.db, self.auth.current, company_id,
                                              load(schemas.BusinessUnitCreate(), payload))

    @rpc
    def list_business_units(self, company_id, query):
        return referrers.list_business_units(self.db, self.auth.current, company_id, load(PageQuery(), query))

    @rpc
    def create_case_manager(self, payload):
        return referrers.create_case_manager(self.db, self.auth.current, load(schemas.CaseManagerCreate(), payload),
                                             self.identity)

    @rpc
    def get_case_manager(self, case_manager_id):
        return referrers.get_case_manager(self.db, self.auth.current, case_manager_id)

    @rpc
    def update_case_manager(self, case_manager_id, payload):
        return referrers.update_case_manager(self.db, self.auth.current, case_manager_id,
                                             load(schemas.CaseManagerUpdate(), payload),
                                             self.identity)

    @rpc
    def case_manager_history(self, case_manager_id, query):
        return referrers.case_manager_history(self.db, self.auth.current, case_manager_id,
                                              load(schemas.HistoryQuery(), query))

    @rpc
    def search_case_managers(self, query):
        return referrers.search_case_managers(self.db, self.auth.current, load(schemas.CaseManagerQuery(), query))

    @rpc
    def recruitment_view(self, query):
        return referrers.recruitment(self.db, self.auth.current, load(schemas.RecruitmentQuery(), query))

    @rpc
    def referrer_scope(self):
        return referrers.referrer_scope(self.db, self.auth.current)

    @rpc
    def get_value_list(self, name):
        return referrers.get_value_list(self.db, self.auth.current, name)

    @rpc
    def put_value_list(self, name, payload):
        return referrers.put_value_list(self.db, self.auth.current, name, load(schemas.ValueListUpdate(), payload))

    @rpc
    def send_promotion(self, payload, headers=None):
        idempotency_key = (headers or {}).get("Idempotency-Key") or None
        return referrers.send_promotion(self.db, self.auth.current, load(schemas.PromotionCreate(), payload),
                                        idempotency_key, self._program_name_from_identity)

    @rpc
    def list_promotions(self, query):
        return referrers.list_promotions(self.db, self.auth.current, load(PageQuery(), query))

    @event_handler(*events.INBOUND_REQUEST_RECEIVED)
    def on_inbound_request_received(self, event):
        referrers.note_referral(self.db, event)

    @event_handler(*events.PROMOTIONS_UNSUBSCRIBED)
    def on_promotions_unsubscribed(self, event):
        referrers.note_unsubscribe(self.db, event)

    @event_handler(*events.ORGANIZATION_CREATED)
    @event_handler(*events.ORGANIZATION_RENAMED)
    def on_program_named(self, event):
        program_names.apply_event(self.db, event)

    @event_handler(*events.USER_ACTIVATED)
    def on_user_activated(self, event):
        referrers.note_staff_change(self.db, event, active=True)

    @event_handler(*events.USER_DEACTIVATED)
    def on_user_deactivated(self, event):
        referrers.note_staff_change(self.db, event, active=False)
