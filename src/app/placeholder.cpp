// Temporary: keeps the app library non-empty until its first real source lands; delete then.
