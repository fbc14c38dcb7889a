-- POST the file named by WRK_BODY with the Content-Type in WRK_CONTENT_TYPE (default JSON).
local path = os.getenv("WRK_BODY")
local file = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
