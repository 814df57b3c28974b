"""What the tests share: signed webhooks, Wix over HTTP, worker beds, log checks. Test modules
import from here, never from each other."""
