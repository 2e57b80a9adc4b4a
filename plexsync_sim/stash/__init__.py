"""The Stash simulator: GraphQL schema, scenes and objects, mutations, jobs, subscriptions
(held to a real Stash's recorded answers by tests/conformance)."""
