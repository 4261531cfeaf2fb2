// Temporary: keeps the rules library non-empty until its first real source lands; delete then.
