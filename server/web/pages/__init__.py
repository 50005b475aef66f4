"""The dashboard's pages, one module per part of the site: signin (sign in and out, the
language), network (everyone signed in), jobs (a submitter's jobs, tasks, results), nodes (a
contributor's nodes and earnings), admin (everything an admin does). Each adds its routes with
`add_routes(router)`; each handler reads through the same domain functions the gRPC servicers
call and renders a template."""
