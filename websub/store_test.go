package websub_test

import (
	"testing"

	"vplanet/websub"
	"vplanet/websub/websubtest"
)

func TestMemoryStore(t *testing.T) {
	websubtest.Store(t, func(*testing.T) websub.Store { return websub.NewMemoryStore() })
	websubtest.HubStore(t, func(*testing.T) websub.HubStore { return websub.NewMemoryStore() })
}
