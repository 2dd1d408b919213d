# -*- test-case-name: tests.backends.test_webhook_requests,tests.backends.test_webhook_failures -*-
"""
The webhook backend (C{[backend] type = webhook}): the operator's own HTTP
receiver answers the stations. L{ocppcs.backends.webhook.decider} posts each
call and relays the answer; L{ocppcs.backends.webhook.replies} reads and
checks what the receiver answered. The embedded record keeps its copies.
"""
