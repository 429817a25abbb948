from shared.migrations import run_env
from directory.models import Base

run_env(Base.metadata)
