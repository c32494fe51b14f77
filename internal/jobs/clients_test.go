package jobs

import (
	"context"
	"testing"
)

func TestRegisteredClients(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.RegisteredClient(ctx, "alice"); ok || err != nil {
		t.Fatalf("no client yet: %v %v", ok, err)
	}
	if err := s.SaveClient(ctx, "alice", Client{ClientID: "c1", RegistrationURI: "http://p/reg/c1", SealedToken: "sealed1"}); err != nil {
		t.Fatal(err)
	}
	c, ok, err := s.RegisteredClient(ctx, "alice")
	if err != nil || !ok || c.ClientID != "c1" || c.SealedToken != "sealed1" || c.Created.IsZero() {
		t.Fatalf("%+v %v %v", c, ok, err)
	}
	if owner, ok, _ := s.OwnerOfClient(ctx, "c1"); !ok || owner != "alice" {
		t.Errorf("owner of c1: %q %v", owner, ok)
	}
	// Replacing (a rotated token, or a new client) keeps one row per user.
	if err := s.SaveClient(ctx, "alice", Client{ClientID: "c2", RegistrationURI: "http://p/reg/c2", SealedToken: "sealed2"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.OwnerOfClient(ctx, "c1"); ok {
		t.Error("the replaced client still maps to alice")
	}
	if owner, _, _ := s.OwnerOfClient(ctx, "c2"); owner != "alice" {
		t.Errorf("owner of c2: %q", owner)
	}
	// A client id belongs to one user only.
	if err := s.SaveClient(ctx, "bob", Client{ClientID: "c2", RegistrationURI: "x", SealedToken: "y"}); err == nil {
		t.Error("bob could take alice's client id")
	}
	if err := s.DeleteClient(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.RegisteredClient(ctx, "alice"); ok {
		t.Error("deleted client still there")
	}
}
