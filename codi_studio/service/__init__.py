"""The service layer: the one API that both the CLI and the studio call.

It joins the model (codi), the media layer and the project store; it holds no
Qt and exposes no tensors.
"""
