"""Terraform's JSON (``terraform show -json`` of a plan or a state) as an accesspath environment.

``is_terraform_json`` recognises the document; ``environment_document`` turns it into the native
environment document (docs/environment.md), which the native reader then checks like any other.
"""

from accesspath.terraform.reader import environment_document, is_terraform_json

__all__ = ["environment_document", "is_terraform_json"]
