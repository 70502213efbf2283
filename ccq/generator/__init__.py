"""Demo call-centre generator: daily extracts of every raw table, as the source systems drop them."""
from ccq.generator.engine import DemoConfig, GenerationSummary, generate

__all__ = ["DemoConfig", "GenerationSummary", "generate"]
