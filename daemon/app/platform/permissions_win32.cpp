// Owner-only files on Windows (platform.h): the data directory gets a protected ACL that grants
// full control to the current user only; what the server creates in it inherits that ACL.

#include "app/platform/platform.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <aclapi.h>

#include <memory>
#include <vector>

namespace troupe::app::platform {

namespace fs = std::filesystem;

namespace {

Status aclError(const fs::path& dir, const char* step, DWORD err) {
    return Status(ErrorCode::IoError, "cannot make data directory " + dir.string() +
                                          " owner-only (" + step + "): error " +
                                          std::to_string(err));
}

} // namespace

void restrictNewFilesToOwner() {}

Status restrictDirectoryToOwner(const fs::path& dir) {
    HANDLE token = nullptr;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return aclError(dir, "OpenProcessToken", GetLastError());
    DWORD size = 0;
    GetTokenInformation(token, TokenUser, nullptr, 0, &size);
    std::vector<unsigned char> buffer(size);
    const BOOL got = GetTokenInformation(token, TokenUser, buffer.data(), size, &size);
    const DWORD tokenError = GetLastError();
    CloseHandle(token);
    if (!got)
        return aclError(dir, "GetTokenInformation", tokenError);
    PSID owner = reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid;

    EXPLICIT_ACCESSW access{};
    access.grfAccessPermissions = GENERIC_ALL;
    access.grfAccessMode = SET_ACCESS;
    access.grfInheritance = SUB_CONTAINERS_AND_OBJECTS_INHERIT;
    access.Trustee.TrusteeForm = TRUSTEE_IS_SID;
    access.Trustee.TrusteeType = TRUSTEE_IS_USER;
    access.Trustee.ptstrName = reinterpret_cast<LPWSTR>(owner);
    PACL acl = nullptr;
    if (DWORD err = SetEntriesInAclW(1, &access, nullptr, &acl); err != ERROR_SUCCESS)
        return aclError(dir, "SetEntriesInAcl", err);
    std::unique_ptr<ACL, decltype(&LocalFree)> owned(acl, &LocalFree);
    // PROTECTED: the parent's inheritable entries (Users, Everyone, ...) no longer apply.
    std::wstring path = dir.wstring();
    DWORD err =
        SetNamedSecurityInfoW(path.data(), SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                              nullptr, nullptr, acl, nullptr);
    if (err != ERROR_SUCCESS)
        return aclError(dir, "SetNamedSecurityInfo", err);
    return Status::ok();
}

Result<std::string> checkDataDirectoryPermissions(const fs::path&) {
    return std::string();
}

} // namespace troupe::app::platform
