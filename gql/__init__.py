"""The Strawberry schema, one package per domain; resolvers hand off to permissions/ and flows/."""
