from shared.migrations import run_env
from referrals.models import Base

run_env(Base.metadata)
