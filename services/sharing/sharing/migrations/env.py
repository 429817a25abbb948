from shared.migrations import run_env
from sharing.models import Base

run_env(Base.metadata)
