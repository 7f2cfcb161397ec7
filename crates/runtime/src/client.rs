//! reqwest glue for generated clients.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::param::ToParam;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request could not be sent or the response not read.
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered with a status the spec does not declare for this operation.
    #[error("unexpected status {status}: {body}")]
    UnexpectedStatus { status: StatusCode, body: String },
    /// A declared status came with a body that does not decode as its declared type.
    #[error("status {status}: invalid response body: {message}")]
    Decode {
        status: StatusCode,
        message: String,
        body: String,
    },
    /// A default header or base URL is invalid.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

/// Builds an [`HttpClient`]: base URL, default headers, timeout.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    headers: HeaderMap,
    timeout: Option<Duration>,
    user_agent: Option<String>,
}

impl ClientBuilder {
    /// A header sent with every request.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ClientError> {
        let name = HeaderName::try_from(name)
            .map_err(|e| ClientError::Config(format!("header name {name:?}: {e}")))?;
        let value = HeaderValue::try_from(value)
            .map_err(|e| ClientError::Config(format!("header {name}: {e}")))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// `Authorization: Bearer <token>` on every request (marked sensitive, so it
    /// is never logged), for services whose operations need a JWT.
    pub fn bearer_token(mut self, token: &str) -> Result<Self, ClientError> {
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.trim()))
            .map_err(|_| ClientError::Config("the bearer token is not header text".into()))?;
        value.set_sensitive(true);
        self.headers.insert(http::header::AUTHORIZATION, value);
        Ok(self)
    }

    /// Total time allowed per request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    pub fn build(self) -> Result<HttpClient, ClientError> {
        let mut builder = reqwest::Client::builder().default_headers(self.headers);
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(ua) = self.user_agent {
            builder = builder.user_agent(ua);
        }
        Ok(HttpClient {
            inner: builder.build()?,
            base_url: self.base_url.trim_end_matches('/').to_owned(),
        })
    }
}

/// The HTTP client generated clients wrap.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    base_url: String,
}

impl HttpClient {
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            headers: HeaderMap::new(),
            timeout: None,
            user_agent: None,
        }
    }

    /// A client with default settings.
    pub fn new(base_url: impl Into<String>) -> Result<HttpClient, ClientError> {
        HttpClient::builder(base_url).build()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Start a call to `path` (already encoded, starting with `/`).
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            client: self.inner.clone(),
            method,
            url: format!("{}{path}", self.base_url),
            headers: HeaderMap::new(),
            body: None,
            query: Vec::new(),
            form: None,
        }
    }
}

/// Percent-encode a path segment.
pub fn segment<T: ToParam + ?Sized>(value: &T) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(&value.to_param(), SEGMENT).to_string()
}

/// One request being built.
#[derive(Debug)]
pub struct Call {
    client: reqwest::Client,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    query: Vec<(String, String)>,
    form: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Call {
    pub fn query<T: ToParam>(mut self, name: &str, value: &T) -> Self {
        self.query.push((name.to_owned(), value.to_param()));
        self
    }

    pub fn query_opt<T: ToParam>(self, name: &str, value: Option<&T>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    pub fn query_list<T: ToParam>(mut self, name: &str, values: &[T]) -> Self {
        for v in values {
            self.query.push((name.to_owned(), v.to_param()));
        }
        self
    }

    pub fn header<T: ToParam>(mut self, name: &str, value: &T) -> Self {
        // Names and values that are not valid header text are dropped; the server
        // then reports the header as missing.
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name),
            HeaderValue::try_from(value.to_param()),
        ) {
            self.headers.append(n, v);
        }
        self
    }

    pub fn header_list<T: ToParam>(mut self, name: &str, values: &[T]) -> Self {
        for v in values {
            self = self.header(name, v);
        }
        self
    }

    pub fn header_opt<T: ToParam>(self, name: &str, value: Option<&T>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, ClientError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ClientError::Config(format!("request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// A raw JSON body (already encoded); for tests and pass-through proxies.
    pub fn raw_json(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A `form` parameter: sent as a field of a JSON object body, as apibuilder does.
    pub fn form<T: Serialize>(mut self, name: &str, value: &T) -> Self {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.form
            .get_or_insert_with(Default::default)
            .insert(name.to_owned(), value);
        self
    }

    pub fn form_opt<T: Serialize>(self, name: &str, value: Option<&T>) -> Self {
        match value {
            Some(v) => self.form(name, v),
            None => self,
        }
    }

    pub async fn send(self) -> Result<Answer, ClientError> {
        let mut url = self.url;
        if !self.query.is_empty() {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(&self.query);
            url.push('?');
            url.push_str(&query.finish());
        }
        let mut request = self.client.request(self.method, url).headers(self.headers);
        let body = match self.form {
            Some(form) => serde_json::to_vec(&form).ok(),
            None => self.body,
        };
        if let Some(body) = body {
            request = request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok(Answer { status, body })
    }
}

/// A response, read in full.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: bytes::Bytes,
}

impl Answer {
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// Decode the body as the declared type of this status.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|e| ClientError::Decode {
            status: self.status,
            message: e.to_string(),
            body: String::from_utf8_lossy(&self.body).into_owned(),
        })
    }

    /// The error for a status the spec does not declare.
    pub fn unexpected(self) -> ClientError {
        ClientError::UnexpectedStatus {
            status: self.status,
            body: String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}
