"""Where the official reference tables are for tests: ../shared/reference when mounted, else the
copy in tests/fixtures/shared_reference (same files and provenance), so no test depends on a mount."""

from pathlib import Path

from ingest import reference_build

FIXTURE_SHARED = Path(__file__).resolve().parent / "fixtures" / "shared_reference"
SHARED = (
    reference_build.DEFAULT_SHARED
    if (reference_build.DEFAULT_SHARED / "hs_reference").is_dir()
    else FIXTURE_SHARED
)
