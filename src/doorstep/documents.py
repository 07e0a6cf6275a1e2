"""What the YAML documents people edit (strategies, rule packs) share: strict pydantic models and
error lines that name the place. Pure: no Django."""

from pydantic import BaseModel, ConfigDict, ValidationError


class Strict(BaseModel):
    """Unknown keys are errors, and a loaded document cannot be changed in place."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def validation_messages(error: ValidationError, root: str) -> list[str]:
    """One line per problem, each starting with its path in the document (`root` at the top)."""
    return [f"{'.'.join(str(p) for p in e['loc']) or root}: {e['msg']}" for e in error.errors()]
