"""accesspath: the offline twin of AWS authorization for ECS workloads behind VPC endpoints."""

__version__ = "0.1.0"
