import org.gradle.api.tasks.Exec

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

// The Rust workspace is two levels up; the SDK is built for the phone's ABIs with cargo-ndk and
// the Kotlin bindings are generated from one of those libraries (never per ABI).
val workspace = rootDir.resolve("../..").canonicalFile
val jniLibsDir = layout.buildDirectory.dir("rust/jniLibs")
val bindingsDir = layout.buildDirectory.dir("generated/uniffi/kotlin")

val cargoBuild by tasks.registering(Exec::class) {
    workingDir = workspace
    commandLine(
        "cargo", "ndk", "-t", "arm64-v8a", "-t", "x86_64", "-o", jniLibsDir.get().asFile.path,
        "build", "--release", "-p", "tiezheng-ffi",
    )
}

val generateBindings by tasks.registering(Exec::class) {
    dependsOn(cargoBuild)
    workingDir = workspace
    commandLine(
        "cargo", "run", "-q", "-p", "uniffi-bindgen", "--bin", "uniffi-bindgen", "--", "generate",
        "--library", jniLibsDir.get().file("arm64-v8a/libtiezheng_ffi.so").asFile.path,
        "--language", "kotlin", "--config", "bindings/uniffi-android.toml",
        "--out-dir", bindingsDir.get().asFile.path,
    )
}

android {
    namespace = "cn.tiezheng.sample.android"
    compileSdk = 35
    defaultConfig {
        applicationId = "cn.tiezheng.sample"
        // 31: KeyGenParameterSpec.setUserAuthenticationParameters (30) and the BiometricPrompt
        // authenticators used by the vault (30+); nothing below is called without it.
        minSdk = 31
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
    }
    buildTypes {
        release {
            // R8 must keep JNA and the generated bindings: UniFFI finds them by name at run time.
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    sourceSets["main"].apply {
        // The platform-free capture logic is shared with the host-JVM tests
        // (bindings/tests/kotlin-jvm), where it is compiled and tested on every CI run.
        java.srcDir("../capture-logic/src/main/kotlin")
        java.srcDir(bindingsDir)
        // The bindings' hand-written companion (ByteArray overloads of the byte-taking calls).
        java.srcDir(workspace.resolve("bindings/kotlin"))
        jniLibs.srcDir(jniLibsDir)
    }
}

tasks.named("preBuild") { dependsOn(generateBindings) }

dependencies {
    implementation("net.java.dev.jna:jna:5.18.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.biometric:biometric:1.1.0")
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.8.7")
    implementation("androidx.work:work-runtime-ktx:2.10.0")
    implementation("androidx.camera:camera-core:1.4.1")
    implementation("androidx.camera:camera-camera2:1.4.1")
    implementation("androidx.camera:camera-lifecycle:1.4.1")
    implementation("androidx.camera:camera-view:1.4.1")
    implementation("com.google.android.gms:play-services-location:21.3.0")
}
