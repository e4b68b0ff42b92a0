-- Sign-in attempts in flight per key (auth.Limiter.Begin), in the store
-- so that several servers bound a burst of guesses together: in_flight
-- attempts begun and not done, counted until in_flight_until (Unix ms; a
-- server that died mid-attempt leaves a count that lapses then).
ALTER TABLE login_attempts ADD COLUMN in_flight bigint NOT NULL DEFAULT 0,
	ADD COLUMN in_flight_until bigint NOT NULL DEFAULT 0;
