package store

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestRedact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"password in the user part", "postgres://vplanet:s3cret@db:5432/vplanet?sslmode=disable", "postgres://vplanet@db:5432/vplanet?sslmode=disable"},
		{"password as a parameter", "postgresql://db/vplanet?user=v&password=s3cret", "postgresql://db/vplanet?user=v&password=xxxxx"},
		{"no password", "postgres://db/vplanet", "postgres://db/vplanet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRedact checks that the password pgx would send never reaches a
// message, whatever the URL looks like.
func FuzzRedact(f *testing.F) {
	f.Add("postgres://user:s3cret@db:5432/db")
	f.Add("postgres://user:p@ss:w/rd%@[::1]:5432/db")
	f.Add("postgres://db/vplanet?password=s3cret&sslmode=disable")
	f.Add("postgres://user:/000@0/db")
	f.Fuzz(func(t *testing.T, dsn string) {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil || len(cfg.Password) < 4 || strings.Contains("postgresql://xxxxx", cfg.Password) {
			return // no password, or one too short to tell apart from the rest
		}
		if got := redact(dsn); strings.Contains(got, cfg.Password) {
			t.Errorf("redact(%q) = %q keeps the password %q", dsn, got, cfg.Password)
		}
	})
}
