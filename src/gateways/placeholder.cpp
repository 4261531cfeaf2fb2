// Temporary: keeps the gateways library non-empty until its first real source lands; delete then.
