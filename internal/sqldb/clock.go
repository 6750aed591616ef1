package sqldb

import "time"

var timeNow = time.Now
