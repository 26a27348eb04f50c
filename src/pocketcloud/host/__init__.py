"""The only code that touches the kernel: processes, namespaces, mounts, nftables."""
