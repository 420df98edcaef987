"""Dialects (DESIGN §6): other providers' documented upload routes, served by Ferry's own upload path.

A dialect is request mapping + defaults + response envelope + error envelope; it never stores
anything itself. Its routes (ferry.routes.kie, .chenyu, .apimart) parse the provider's request,
call the same FileService methods the native routes call, and build the provider's response from
the stored FileRecord. Errors are FerryErrors like everywhere else; the resolver renders them in the
dialect's envelope because each dialect router registers its renderer for its paths.
"""
