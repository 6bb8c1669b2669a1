"""webhook-reconciler: Terraform-style plan/apply for SaaS webhook subscriptions."""

__version__ = "0.1.0"
