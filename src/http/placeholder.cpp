// Temporary: keeps the http library non-empty until its first real source lands; delete then.
