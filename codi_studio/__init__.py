"""CoDi Studio: local any-to-any media generation with Composable Diffusion."""

__version__ = "0.1.0"
