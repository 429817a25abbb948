"""The directory service's nameko entrypoints: decode, call the use case, encode."""
from nameko.timer import timer

from directory import catalog, schemas
from shared.schemas import load
from shared.service import ServiceBase
from shared.rpc import rpc


IMPORT_POLL_SECONDS = 1.0


class DirectoryService(ServiceBase):
    name = "directory"

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
