# agentgatectl: the admin's and incident responder's tool.
