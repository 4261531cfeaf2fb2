// Temporary: keeps the engine library non-empty until its first real source lands; delete then.
