// Body of the Kratos web hook that calls `iam serve role-webhook` after login and registration.
// The webhook reads the identity's roles from Keto and patches metadata_public.roles through the admin API.
function(ctx) { identity_id: ctx.identity.id }
