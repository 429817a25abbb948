"""The referrals service's nameko entrypoints: decode, call the domain, encode."""
from nameko.rpc import RpcProxy

from nameko.timer import timer

from referrals import (
    client_import, clients, closed_loop, events, hosted_page, inbound, lists, programs, reports, schemas,
)
from shared.events import event_handler
from shared.schemas import load
from shared.service import ServiceBase
from shared.rpc import rpc

REMINDER_INTERVAL_SECONDS = 300
IMPORT_POLL_SECONDS = 1.0


class ReferralsService(ServiceBase):
    name = "referrals"

    directory = RpcProxy("directory")
    identity = RpcProxy("identity")
    notify = RpcProxy("notify")

    @property
    def public_base_url(self):
        return self.config["PUBLIC_BASE_URL"].rstrip("/")

    @property
    def form_challenge(self):
        return inbound.FormChallenge(secret=self.config["INBOUND_FORM_SECRET"],
                                     min_seconds=int(self.config["INBOUND_FORM_MIN_SECONDS"]))

    # Clients

    @rpc
    def create_client(self, payload):
        return clients.create_client(self.db, self.auth.current, load(schemas.ClientCreateSchema(), payload))

    @rpc
    def get_client(self, client_id):
        return clients.get(self.db, self.auth.current, client_id)

    @rpc
    def list_clients(self, query):
        return clients.list_clients(self.db, self.auth.current, load(schemas.ClientQuerySchema(), query))

    @rpc
    def update_client(self, client_id, payload):
        return clients.update_client(self.db, self.auth.current, client_id,
                                     load(schemas.ClientUpdateSchema(), payload))

    @rpc
    def set_client_assignments(self, client_id, payload):
        data = load(schemas.AssignmentsSchema(), payload)
        return clients.set_assignments(self.db, self.auth.current, client_id, data["user_ids"])

    @rpc
    def merge_clients(self, client_id, duplicate_id):
        return clients.merge(self.db, self.auth.current, client_id, duplicate_id)

    @rpc
    def client_card(self, client_id):
        """Name, photo and basic contact of a client the caller sees (for sharing)."""
        return clients.card(self.db, self.auth.current, client_id)

    @rpc
    def import_clients(self, payload):
        return client_import.start_import(self.db, self.auth.current,
                                          load(schemas.ClientImportCreateSchema(), payload))

    @rpc
    def get_client_import(self, import_id):
        return client_import.get_import(self.db, self.auth.current, import_id)

    @timer(interval=IMPORT_POLL_SECONDS)
    def run_client_imports(self):
        client_import.run_imports(self.db)

    # Referral lists

    @rpc
    def create_referral_list(self, payload):
        return lists.create_list(self.db, self.auth.current, load(schemas.ReferralListCreateSchema(), payload),
                                 self.directory.provider_snapshots)

    @rpc
    def get_referral_list(self, list_id):
        return lists.get_list(self.db, self.auth.current, list_id)

    @rpc
    def list_referral_lists(self, query):
        return lists.list_lists(self.db, self.auth.current, load(schemas.ReferralListQuerySchema(), query))

    @rpc
    def update_referral_list(self, list_id, payload):
        return lists.update_list(self.db, self.auth.current, list_id,
                                 load(schemas.ReferralListUpdateSchema(), payload), self.directory.provider_snapshots)

    @rpc
    def send_referral_list(self, list_id, payload, headers=None):
        idempotency_key = (headers or {}).get("Idempotency-Key") or None
        return lists.send_list(self.db, self.auth.current, list_id, load(schemas.SendSchema(), payload),
                               idempotency_key, self.identity.me, self.public_base_url)

    @rpc
    def print_referral_list(self, list_id, query):
        caller = self.auth.current
        programs.sync_caller(self.db, caller, self.identity.me)
        document = lists.print_document(self.db, caller, list_id, load(schemas.PrintQuerySchema(), query))
        return self.notify.render_pdf(document)

    @rpc
    def public_referral_list(self, token, headers=None, client=None):
        page = lists.public_list(self.db, token)
        return hosted_page.as_html(page) if hosted_page.wants_html(headers) else page

    @event_handler(*events.MESSAGE_STATUS_CHANGED)
    def on_message_status_changed(self, event):
        if event.claim(self.db) and str(event.data.get("source_ref", "")).startswith("referral_list:"):
            lists.record_delivery(self.db, event.data)
        self.db.commit()

    # Closed-loop referrals

    @rpc
    def create_referral(self, payload):
        return closed_loop.create_referral(self.db, self.auth.current, load(schemas.ReferralCreateSchema(), payload),
                                           self.directory.provider_snapshots, self.identity.me,
                                           self.public_base_url)

    @rpc
    def get_referral(self, referral_id):
        return closed_loop.get_referral(self.db, self.auth.current, referral_id)

    @rpc
    def list_referrals(self, query):
        return closed_loop.list_referrals(self.db, self.auth.current, load(schemas.ReferralQuerySchema(), query))

    @rpc
    def update_referral(self, referral_id, payload):
        return closed_loop.update_referral(self.db, self.auth.current, referral_id,
                                           load(schemas.ReferralUpdateSchema(), payload), self.identity.me,
                                           self.public_base_url)

    @rpc
    def referral_history(self, referral_id):
        return closed_loop.history(self.db, self.auth.current, referral_id)

    @rpc
    def referral_for_provider(self, token, client=None):
        return closed_loop.for_provider(self.db, token)

    @rpc
    def provider_response(self, token, payload, client=None):
        return closed_loop.respond(self.db, token, load(schemas.ResponseSchema(), payload), self.public_base_url)

    @rpc
    def get_referral_settings(self):
        return programs.get_settings(self.db, self.auth.current)

    @rpc
    def put_referral_settings(self, payload):
        return programs.put_settings(self.db, self.auth.current, load(schemas.ReferralSettingsSchema(), payload),
                                     self.identity.me)

    @timer(interval=REMINDER_INTERVAL_SECONDS)
    def remind_stale_referrals(self):
        closed_loop.remind_stale(self.db, self.public_base_url)

    @event_handler(*events.ORGANIZATION_CREATED)
    @event_handler(*events.ORGANIZATION_RENAMED)
    def on_program_named(self, event):
        programs.note_program_named(self.db, event)

    # Inbound requests and reports

    @rpc
    def inbound_request_form(self, slug, provider_id, client=None):
        return inbound.form(self.form_challenge, slug, provider_id, self.directory.public_provider)

    @rpc
    def submit_inbound_request(self, slug, provider_id, payload, client=None):
        return inbound.submit(self.db, self.form_challenge, slug, provider_id,
                              load(schemas.InboundRequestCreateSchema(), payload), client,
                              self.directory.public_provider, self.public_base_url)

    @rpc
    def make_case_manager_referral(self, payload):
        return inbound.refer_as_case_manager(self.db, self.auth.current,
                                             load(schemas.CaseManagerReferralCreateSchema(), payload),
                                             self.directory.referrer_scope)

    @rpc
    def case_manager_referrals(self, query):
        return inbound.case_manager_referrals(self.db, self.auth.current,
                                              load(schemas.CaseManagerReferralQuerySchema(), query),
                                              self.directory.referrer_scope)

    @rpc
    def case_manager_referral(self, case_manager_referral_id):
        return inbound.case_manager_referral(self.db, self.auth.current, case_manager_referral_id,
                                             self.directory.referrer_scope)

    @rpc
    def list_inbound_requests(self, query):
        return inbound.list_requests(self.db, self.auth.current, load(schemas.InboundQuerySchema(), query))

    @rpc
    def referral_report(self, query):
        return reports.referral_report(self.db, self.auth.current, load(schemas.ReportQuerySchema(), query))
