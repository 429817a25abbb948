from shared.migrations import run_env
from billing.models import Base

run_env(Base.metadata)
