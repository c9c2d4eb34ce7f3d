"""Who a person is in a community and what they may do: the member as flows see them, the roles and
their order, and the sync of the community's members from VK."""
